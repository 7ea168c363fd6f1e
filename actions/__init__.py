"""Rasa SDK custom actions: thin wrappers that validate what Rasa collected and call bot/ services."""
