"""Entities, values and the rules they obey. Nothing here opens a session, reads a clock or
talks to the outside world: time and data come in as arguments."""
