"""党籍异动: a member's standing changes — deceased, left, expelled, suspended, restored — with reasons;
only members in good standing count for the committee and branch-size rules."""
