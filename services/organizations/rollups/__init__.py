"""Provincial rollups (issue 14): per-county figures for a province or prefecture — coverage and
rectification conversion as of a date — read from each county's read-models and log, for tokens that
cover the county by division-code prefix (Actor.covers). No aggregate and no read-model of its own."""
