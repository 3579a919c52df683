"""cinflow engine: Child in Need procedures as BPMN, run by SpiffWorkflow.

Nothing here imports Flask; the web app, the CLI and the worker all call `engine.services`.
"""
