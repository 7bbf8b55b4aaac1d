-- The desks (issue 14 items 3 and 4): the supervisor's 督办台, the department's 今日待办 and the
-- notification inbox.
--
-- notification_reads: who has read which in-app notification. A notification goes to a role or
-- an organisation, read by several people; each reader's inbox counts what *they* have not
-- read (notifications.read_at keeps the first reading by anyone, as before).
CREATE TABLE notification_reads (
    notification_id VARCHAR(32) NOT NULL,
    reader VARCHAR(64) NOT NULL,
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (notification_id, reader)
);

-- order_transitions.attachments: the files a reply to a supervision order carried (JSON list
-- of {attachment_id, name, size_bytes, sha256}, as alert_transitions.attachments); the files
-- themselves are rows of `attachments` with owner_kind 'order'.
ALTER TABLE order_transitions ADD COLUMN attachments TEXT;
