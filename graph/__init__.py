"""The GraphQL API and its HTTP routes: it translates, and decides nothing.

schema.py          the schema: each area's queries and mutations merged into one root
customers/ products/ transactions/ invoices/
                   one package per business area: types.py (objects, inputs, payloads),
                   queries.py, mutations.py (input -> domain service -> payload)
viewer.py          who is asking
context.py         the per-request context and its DataLoaders
errors.py          UserError, the one payload() helper, errors as clients see them
enums.py scalars.py ids.py paging.py operation_metrics.py
http/              the other routes: auth, PDF downloads, the Stripe webhook, health,
                   metrics, the request body limit
app.py             the Starlette application
"""
