"""The organizations.rooms read-model: rooms, the people in them, their receptions and visits."""
