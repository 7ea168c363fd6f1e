"""Our own Rasa NLU pipeline pieces, and the detail patterns they share with bot/.

`nlu.patterns` is plain `re` (bot.textscan imports it); `nlu.components` is loaded by Rasa
only (config.yml names it), so nothing in bot/ or api/ imports Rasa.
"""
