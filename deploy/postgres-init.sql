-- Run by the postgres image the first time its volume is empty (deploy/compose.yaml): Rasa's
-- conversation state gets a database of its own beside ours (`support`, made by POSTGRES_DB).
-- Rasa creates its tables there when it starts; Alembic never touches them.
CREATE DATABASE rasa;
