"""What we know about each customer: differentiators and whether the customer knows that we know."""
