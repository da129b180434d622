"""Services: business rules above the model layer."""
