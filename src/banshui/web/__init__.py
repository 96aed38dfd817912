"""Server-rendered pages in Chinese: the query page now, the console later."""
