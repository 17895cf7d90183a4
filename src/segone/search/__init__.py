"""Search across what everyone knows: differentiators and encounter notes, ranked by relevance."""
