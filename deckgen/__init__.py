"""deckgen: Chinese articles about AI papers in, Anki decks out."""

__version__ = "0.1.0"
