"""Campaigns: a promotional message per language to an audience, with an optional offer (a reward from
the catalog claimed with one button, through storage.loyalty.redemptions) and a hold-out group; fanned
out as a bulk job under the contact budget and the customers' preferences; reported with the lift over
the hold-out. Above surveys (it reads its audience with storage.surveys.audiences); imports every context
below it."""
