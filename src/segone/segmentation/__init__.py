"""Segmentation: divide the customers, segment by segment, by the variable that separates them best, down to
segments of one (issue "BE DiFFERENT segmentation"; docs/segmentation.md)."""
