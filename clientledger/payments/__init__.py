"""Money received and given back: manual and Stripe payments, credit, refunds, disputes."""
