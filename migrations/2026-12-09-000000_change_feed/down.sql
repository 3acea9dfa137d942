DROP TABLE change_events_horizon;
DROP TABLE change_events;
