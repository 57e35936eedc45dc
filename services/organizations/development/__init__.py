"""Development of members (发展党员): application → activist → development candidate → probationary
member → full member (转正), probation extended or cancelled; each step an event with its date and
who decided; minimum durations from the county rule table."""
