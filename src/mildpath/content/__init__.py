"""Clinical knowledge as data (YAML/Markdown), each item with its source, loaded and validated once."""
