def register_page_extensions() -> None:
    return None
