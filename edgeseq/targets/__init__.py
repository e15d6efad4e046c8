"""Device-specific packs built from an export, one folder per target (DESIGN.md: targets/).
A target reads the exported files and writes its pack beside them; it never converts."""
