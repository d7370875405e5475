"""Points and what they buy: the ledger (lots, balances, expiry), tiers, purchases, rewards,
redemptions, referrals, and the purchase rhythm a lapse is measured against. Imports core and people."""
