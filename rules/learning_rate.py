"""(rules of this family are added next)."""
