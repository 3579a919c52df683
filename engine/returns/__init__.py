"""Statutory returns and oversight read from the store (never from SpiffWorkflow).

`records` reads what happened to each case (the audit trail and the case rows) once; `census`
builds the DfE Child in Need census XML and lists what is missing; `annex_a` writes Ofsted's
list 6; `oversight` counts timeliness, caseloads and drift for managers.
"""
