"""Use cases. Each owns one transaction (`with db.uow() as uow: ...; uow.commit()`) and returns what to
tell the person who acted; everyone else is told through the outbox, in the same transaction."""
