"""Saved web pages: trafilatura finds the main text, title and headings; the Markdown reader does the rest."""

from __future__ import annotations

from deckgen.ingest.markdown import split_markdown
from deckgen.ingest.raw import RawArticle


def split_html(page: str) -> list[RawArticle]:
    """One saved page, one article: its main text as Markdown (headings kept), titled by the page."""
    import trafilatura  # imported on use: it loads lxml and its own models

    body = trafilatura.extract(
        page,
        output_format="markdown",
        include_formatting=True,
        include_tables=True,
        include_comments=False,
        include_images=False,
        include_links=False,
        favor_recall=True,
    )
    if not body:
        return []
    meta = trafilatura.extract_metadata(page)
    articles = split_markdown(body)
    title = meta.title.strip() if meta is not None and meta.title else None
    if len(articles) == 1 and title and not articles[0].title:
        articles[0].title = title
    return articles
