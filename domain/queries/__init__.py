"""The read side: what the lists, the search box, the stats widgets, the preview and the
nested GraphQL fields read. Nothing here changes the database; every query is scoped to
the viewer, so a customer's token sees its own customer only."""
