"""Inference estimates: LLM memory and tokens/s on a device, speech-to-text, the voice loop,
and cloud serving cost. Efficiencies are fitted on published measurements (see fit.py)."""
