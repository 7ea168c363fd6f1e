"""Rasa input channels of ours, loaded by the Rasa server (credentials.yml); they import nothing from bot/."""
