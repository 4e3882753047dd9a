"""Campaign planning: tier allocation and creator selection (the `plan` commands)."""
