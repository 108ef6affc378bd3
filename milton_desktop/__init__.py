"""Milton Desktop: a local-first social media publisher."""

__version__ = "0.1.0"
APP_NAME = "Milton Desktop"
APP_ID = "milton-desktop"
