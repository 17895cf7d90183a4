"""The self-assessment: "Do we know a lot about our customers?", month by month, and the top-10 exercise."""
