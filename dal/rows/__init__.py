"""Row types: frozen dataclasses, one module per area, shared by the sync and async flavours."""
