"""Rules: the county's rule table (规则表) — organization-setting thresholds, terms, the 软弱涣散 reasons,
coverage scope, qualifying units (符合组建条件) and targets — each version effective from a date."""
