"""Case events (办件事件): canonical fields, parsing with aliases, import, quarantine."""
