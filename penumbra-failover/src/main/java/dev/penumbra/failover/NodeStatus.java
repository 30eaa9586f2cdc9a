package dev.penumbra.failover;

import java.time.Duration;
import java.time.Instant;

/**
 * A node as the shadow-node manager sees it.
 *
 * @param node the node's name
 * @param risk its latest failure probability
 * @param riskAt when that was observed
 * @param standby its standby's state
 * @param pinned whether it keeps a standby whatever its risk
 * @param standbyTime how long it has had a standby (provisioning or ready), in total
 * @param standbysProvisioned how many standbys were provisioned for it
 * @param moves how many times its work was moved
 * @param lastError the last provisioning or decommissioning error, or null
 */
public record NodeStatus(String node, double risk, Instant riskAt, StandbyState standby, boolean pinned,
    Duration standbyTime, int standbysProvisioned, int moves, String lastError) {}
