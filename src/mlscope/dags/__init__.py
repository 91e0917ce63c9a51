"""Airflow: DAG generation from the spec, integrity checks on real Airflow, promotion of DAGs
between environments (MWAA layout), CI workflow and the MWAA cost/pause plan."""
