"""A faster executor for the queries that carry the load, behind the standard one.

graphql-core spends most of a large page completing fields one at a time (about 5 µs per
field: resolve info, path, type dispatch). `plan.py` compiles a query once per document into
closures that read each field's value and complete it for its known type, calling the same
Strawberry resolvers (scope gates, dataloaders, argument conversion) wherever a field has
one; `executor.py` runs the plan inside graphql-core's execution, so parsing, validation,
cost, rate limits, masking and the audit stay exactly where they are.

The plan covers queries whose root fields are the lists clients page through (accounts,
cards, transactions, transfers, service payments) over object, list, scalar and enum types.
Anything else (a mutation, an abstract type, a directive, an introspection field, a field
marked `STANDARD_ONLY`), and any error or null where the schema forbids one, is handed to
graphql-core's executor, which then answers exactly as it would have alone. Setting
`ALIF_GRAPH_FAST_EXECUTION=false` switches the plan off (docs/performance.md).
"""
