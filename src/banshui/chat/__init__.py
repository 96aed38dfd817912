"""The ops chat command (绑定小号 / 解绑小号 / 查询小号), for the robot and the CLI."""
