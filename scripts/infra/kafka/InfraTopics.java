import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeTransactionsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;

/**
 * Admin helper for scripts/infra/kafka.sh, so that waiting for the broker and
 * creating every topic costs one JVM start instead of one per topic
 * (org.apache.kafka.tools.TopicCommand handles a single topic per run).
 *
 * <pre>
 *   InfraTopics ensure BOOTSTRAP TOPICS_FILE [TIMEOUT_SECONDS [fresh]]
 *       wait until the broker serves metadata and can create topics, then
 *       create the missing topics of TOPICS_FILE ("name partitions" lines,
 *       '#' comments), grow existing ones that have fewer partitions, and
 *       warm up the group/transaction coordinators ("fresh": the broker was
 *       just started, also make it fetch its first block of producer ids).
 *   InfraTopics list BOOTSTRAP
 *       print "name partitions" for every non-internal topic.
 * </pre>
 */
public final class InfraTopics {
    private static final short REPLICATION = 1;

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            usage();
        }
        String cmd = args[0];
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "cryptocare-infra");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "50");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        int code;
        try (Admin admin = Admin.create(props)) {
            switch (cmd) {
                case "ensure":
                    if (args.length < 3) {
                        usage();
                    }
                    long timeoutMs = TimeUnit.SECONDS.toMillis(args.length > 3 ? Long.parseLong(args[3]) : 60);
                    boolean fresh = args.length > 4 && args[4].equals("fresh");
                    code = ensure(admin, args[1], Path.of(args[2]), System.currentTimeMillis() + timeoutMs, fresh);
                    break;
                case "list":
                    code = list(admin);
                    break;
                default:
                    usage();
                    return;
            }
        }
        System.exit(code);
    }

    private static void usage() {
        System.err.println("usage: InfraTopics ensure BOOTSTRAP TOPICS_FILE [TIMEOUT_SECONDS] | list BOOTSTRAP");
        System.exit(2);
    }

    private static Map<String, Integer> readTopics(Path file) throws Exception {
        Map<String, Integer> topics = new LinkedHashMap<>();
        for (String raw : Files.readAllLines(file)) {
            String line = raw.replaceFirst("#.*", "").trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split("\\s+");
            if (parts.length != 2) {
                throw new IllegalArgumentException(file + ": expected \"name partitions\": " + raw);
            }
            topics.put(parts[0], Integer.parseInt(parts[1]));
        }
        return topics;
    }

    private static int ensure(Admin admin, String bootstrap, Path file, long deadline, boolean fresh) throws Exception {
        Map<String, Integer> wanted = readTopics(file);
        List<String> created = new ArrayList<>();
        List<String> grown = new ArrayList<>();
        while (true) {
            try {
                // Broker registered and serving metadata?
                if (admin.describeCluster().nodes().get().isEmpty()) {
                    throw new IllegalStateException("no broker registered yet");
                }
                Set<String> existing = admin.listTopics().names().get();
                List<NewTopic> missing = new ArrayList<>();
                for (Map.Entry<String, Integer> e : wanted.entrySet()) {
                    if (!existing.contains(e.getKey())) {
                        missing.add(new NewTopic(e.getKey(), e.getValue(), REPLICATION));
                    }
                }
                if (!missing.isEmpty()) {
                    for (Map.Entry<String, KafkaFuture<Void>> f : admin.createTopics(missing).values().entrySet()) {
                        try {
                            f.getValue().get();
                            created.add(f.getKey());
                        } catch (ExecutionException ex) {
                            if (!(ex.getCause() instanceof TopicExistsException)) {
                                throw ex;
                            }
                        }
                    }
                }
                List<String> present = new ArrayList<>(wanted.keySet());
                present.removeAll(created);
                if (!present.isEmpty()) {
                    Map<String, NewPartitions> grow = new LinkedHashMap<>();
                    for (TopicDescription d : admin.describeTopics(present).allTopicNames().get().values()) {
                        int want = wanted.get(d.name());
                        int have = d.partitions().size();
                        if (have < want) {
                            grow.put(d.name(), NewPartitions.increaseTo(want));
                        } else if (have > want) {
                            System.err.printf("warning: topic %s has %d partitions, %s says %d (not shrinking)%n",
                                    d.name(), have, file.getFileName(), want);
                        }
                    }
                    if (!grow.isEmpty()) {
                        admin.createPartitions(grow).all().get();
                        grown.addAll(grow.keySet());
                    }
                }
                break;
            } catch (Exception ex) {
                if (System.currentTimeMillis() > deadline) {
                    Throwable cause = ex instanceof ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
                    System.err.println("error: broker not ready / topics not created: " + cause);
                    return 1;
                }
                Thread.sleep(250);
            }
        }
        String coordinators = warmCoordinators(admin, bootstrap, fresh);
        System.out.printf("topics: %d declared, %d created%s%s%n", wanted.size(), created.size(),
                created.isEmpty() ? "" : " " + created,
                grown.isEmpty() ? "" : ", partitions grown " + grown);
        if (coordinators != null) {
            System.err.println("warning: " + coordinators);
        }
        return 0;
    }

    /**
     * Makes the broker create __consumer_offsets and __transaction_state now
     * (a FindCoordinator request for a group / a transactional id does that)
     * and waits until every partition of both is loaded, so the first consumer
     * group or transactional producer of a test does not wait for, and log,
     * "coordinator not available / loading". When fresh, also runs one
     * InitProducerId for a new transactional id (initTransactions, no record
     * written): until a just-started broker has fetched a block of producer
     * ids from the controller, InitProducerId answers
     * COORDINATOR_LOAD_IN_PROGRESS, which kafkajs logs as an error and
     * retries. (A new id is needed: re-initialising a known one only bumps
     * its epoch and allocates nothing. Unused ids expire after
     * transactional.id.expiration.ms, 7 days.)
     * Returns null when done, else a description of what failed (not fatal).
     */
    private static String warmCoordinators(Admin admin, String bootstrap, boolean fresh) {
        try {
            probeCoordinators(admin, List.of("cryptocare-infra-warmup"), List.of("cryptocare-infra-warmup"));
            Map<String, TopicDescription> internal = admin
                    .describeTopics(List.of("__consumer_offsets", "__transaction_state"))
                    .allTopicNames().get(30, TimeUnit.SECONDS);
            // One probe id per partition: the coordinator of an id is partition
            // Utils.abs(id.hashCode()) % partitions (see GroupCoordinator and
            // TransactionStateManager), and the admin client retries while it loads.
            probeCoordinators(admin,
                    probeIds("cryptocare-infra-warmup-g", internal.get("__consumer_offsets").partitions().size()),
                    probeIds("cryptocare-infra-warmup-t", internal.get("__transaction_state").partitions().size()));
            if (!fresh) {
                return null;
            }
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ProducerConfig.CLIENT_ID_CONFIG, "cryptocare-infra");
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "cryptocare-infra-warmup-" + System.currentTimeMillis());
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
            props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
                producer.initTransactions();
            }
            return null;
        } catch (Exception ex) {
            Throwable cause = ex instanceof ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
            return "coordinator warm-up failed: " + cause;
        }
    }

    private static List<String> probeIds(String prefix, int partitions) {
        boolean[] seen = new boolean[partitions];
        List<String> ids = new ArrayList<>();
        for (int i = 0; ids.size() < partitions && i < 1_000_000; i++) {
            String id = prefix + i;
            int p = Utils.abs(id.hashCode()) % partitions;
            if (!seen[p]) {
                seen[p] = true;
                ids.add(id);
            }
        }
        return ids;
    }

    private static void probeCoordinators(Admin admin, List<String> groups, List<String> transactionalIds)
            throws Exception {
        for (KafkaFuture<?> f : admin.describeConsumerGroups(groups).describedGroups().values()) {
            try {
                f.get(30, TimeUnit.SECONDS);
            } catch (ExecutionException ex) {
                // Kafka 4 (KIP-848 coordinator) answers "not found" for an unknown group.
                if (!(ex.getCause() instanceof GroupIdNotFoundException)) {
                    throw ex;
                }
            }
        }
        DescribeTransactionsResult transactions = admin.describeTransactions(transactionalIds);
        for (String id : transactionalIds) {
            try {
                transactions.description(id).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException ex) {
                if (!(ex.getCause() instanceof TransactionalIdNotFoundException)) {
                    throw ex;
                }
            }
        }
    }

    private static int list(Admin admin) throws Exception {
        Set<String> names = admin.listTopics().names().get();
        Map<String, Integer> sorted = new TreeMap<>();
        for (TopicDescription d : admin.describeTopics(names).allTopicNames().get().values()) {
            sorted.put(d.name(), d.partitions().size());
        }
        sorted.forEach((name, partitions) -> System.out.println(name + " " + partitions));
        return 0;
    }
}
