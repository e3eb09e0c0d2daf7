"""The client's pages behind a document link."""
