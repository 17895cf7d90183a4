"""The categories a differentiator belongs to, and the classifier that suggests one for a new fact."""
