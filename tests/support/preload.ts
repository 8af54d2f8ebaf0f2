// Loaded before every test file (bunfig.toml): quiet logs unless a test asks for them.
process.env.LOG_LEVEL ??= "ERROR";
process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";
