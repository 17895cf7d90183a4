"""Messages to a customer: templates by purpose, drafts in their own facts, the "about them" check."""
