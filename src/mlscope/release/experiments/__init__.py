"""Online experiments: A/B statistics, decisions and bandit routing policies.

`stats` holds the formulas (SRM, delta-method lift, Welch, confidence sequences, chance to win,
CUPED), `analysis` applies them to a table of units, `decision` turns an analysis into
ship / keep / continue / stop, `bandits` the routing policies and their simulator, `store`
the append-only outcome log the prediction service writes. Maths from numpy and scipy only.
"""
