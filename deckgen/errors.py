"""One exception family for every stage; the CLI turns them into click errors in one place."""


class DeckgenError(Exception):
    """Something the user can fix; the message says what and how."""


class InputError(DeckgenError):
    """An input file that cannot be read or decoded."""


class DeckFileError(DeckgenError):
    """A deck file that fails to parse or breaks the schema."""


class StateError(DeckgenError):
    """decks/.deckgen-state.json that cannot be used; the message says how to rebuild it."""


class WriteError(DeckgenError):
    """A deck file, state or package that could not be written (read-only folder, disk full, edited meanwhile)."""


class TemplateError(DeckgenError):
    """A missing or broken file in templates/."""


class ConfigError(DeckgenError):
    """LLM settings that are missing or wrong."""


class LLMError(DeckgenError):
    """A request or reply that could not be turned into cards; the article keeps its rule-based cards."""
