"""microgradtui: the Textual app that trains a micrograd network live."""
