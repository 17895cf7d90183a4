"""Encounters: every meeting, call, e-mail, chat or store visit, and what was learned in it."""
