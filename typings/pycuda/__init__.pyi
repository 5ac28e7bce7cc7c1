# Hand-written, partial: see typings/README.md.
VERSION: tuple[int, ...]
VERSION_STATUS: str
VERSION_TEXT: str
