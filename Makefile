.PHONY: install test lint bench example

install:
	python3 -m venv .venv && .venv/bin/pip install -e ".[test]"

test:
	.venv/bin/python -m pytest -q

lint:
	.venv/bin/ruff check deckgen tests bench

example:
	.venv/bin/deckgen build examples/ -o examples.apkg --decks-dir decks

bench:
	.venv/bin/python bench/bench_build.py
	.venv/bin/python bench/bench_llm.py
