"""FastAPI service: the one door for customers, agents and managers."""
