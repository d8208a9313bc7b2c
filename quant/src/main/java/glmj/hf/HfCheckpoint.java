package glmj.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import static glmj.hf.CheckpointFormatException.quote;

/**
 * A Hugging Face checkpoint directory: {@code config.json} and the weights, {@code model.safetensors} or a set of
 * shards listed by {@code model.safetensors.index.json} (or, without an index, every {@code model*.safetensors}).
 * Each file is mapped once, read-only, in a shared arena, and checked when opened (see {@link SafetensorsFile}); the
 * index and the shards must name the same tensors. FP8 weights come with their scales (see {@link Fp8Scaling}); the
 * scales and activation scales are not weights of their own. Tensors are views of the mappings, valid until
 * {@link #close()}.
 */
public final class HfCheckpoint implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path directory;
    private final Arena arena;
    private final JsonNode config;
    private final Fp8Scaling fp8;
    private final List<Path> files;
    private final Map<String, CheckpointTensor> weights;

    private HfCheckpoint(Path directory, Arena arena, JsonNode config, Fp8Scaling fp8, List<Path> files,
            Map<String, CheckpointTensor> weights) {
        this.directory = directory;
        this.arena = arena;
        this.config = config;
        this.fp8 = fp8;
        this.files = List.copyOf(files);
        this.weights = Collections.unmodifiableMap(weights);
    }

    /**
     * Opens the checkpoint in {@code directory}.
     *
     * @throws CheckpointFormatException when a file is malformed, the files disagree or the directory has no config
     * @throws NoSuchFileException when the directory or a weight file is missing
     */
    public static HfCheckpoint open(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            if (Files.exists(directory)) {
                throw new CheckpointFormatException(directory, "not a directory; a Hugging Face checkpoint is the directory holding "
                        + CONFIG + " and the .safetensors files");
            }
            throw new NoSuchFileException(directory.toString());
        }
        Path configFile = directory.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointFormatException(directory, "not a Hugging Face checkpoint: it has no " + CONFIG);
        }
        JsonNode config = readJson(configFile);
        if (!config.isObject()) {
            throw new CheckpointFormatException(configFile, "not a JSON object");
        }
        Fp8Scaling fp8 = Fp8Scaling.fromConfig(configFile, config);
        Arena arena = Arena.ofShared();
        try {
            List<Path> files = new ArrayList<>();
            Map<String, SafetensorsTensor> stored = storedTensors(directory, arena, files);
            return new HfCheckpoint(directory, arena, config, fp8, files, weights(configFile, stored, fp8));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path directory() {
        return directory;
    }

    /** The parsed {@code config.json}. */
    public JsonNode config() {
        return config;
    }

    /** The FP8 scaling {@code config.json} declares, or null for an unquantized checkpoint. */
    public Fp8Scaling fp8() {
        return fp8;
    }

    /** The weight files, in the order they were read. */
    public List<Path> files() {
        return files;
    }

    /** Every weight by name, in file and header order; FP8 scales and activation scales are part of their weight. */
    public Map<String, CheckpointTensor> weights() {
        return weights;
    }

    public Optional<CheckpointTensor> findWeight(String name) {
        return Optional.ofNullable(weights.get(name));
    }

    /** Bytes of every weight and scale. */
    public long storedBytes() {
        return weights.values().stream().mapToLong(CheckpointTensor::storedBytes).sum();
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    /** A JSON file, parsed; one-line errors for a missing or malformed file. */
    public static JsonNode readJson(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString());
        }
        try {
            JsonNode node = SafetensorsFile.JSON.readTree(Files.readString(file));
            if (node == null) {
                throw new CheckpointFormatException(file, "empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(file, "not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""));
        }
    }

    /** Every stored tensor of the weight files, by name, each checked against the index when there is one. */
    private static Map<String, SafetensorsTensor> storedTensors(Path directory, Arena arena, List<Path> files) throws IOException {
        Path indexFile = directory.resolve(INDEX);
        Map<String, String> index = null;
        if (Files.isRegularFile(indexFile)) {
            index = weightMap(indexFile);
            files.addAll(new TreeSet<>(index.values()).stream().map(directory::resolve).toList());
        } else if (Files.isRegularFile(directory.resolve(SINGLE_FILE))) {
            files.add(directory.resolve(SINGLE_FILE));
        } else {
            try (DirectoryStream<Path> parts = Files.newDirectoryStream(directory, "model*.safetensors")) {
                parts.forEach(files::add);
            }
            files.sort(null);
            if (files.isEmpty()) {
                throw new CheckpointFormatException(directory, "no weights: neither " + INDEX + " nor " + SINGLE_FILE
                        + " nor model-*.safetensors");
            }
        }
        Map<String, SafetensorsTensor> stored = new LinkedHashMap<>();
        for (Path file : files) {
            for (SafetensorsTensor t : SafetensorsFile.parse(file, map(file, arena))) {
                SafetensorsTensor previous = stored.putIfAbsent(t.name(), t);
                if (previous != null) {
                    throw new CheckpointFormatException(file, "tensor " + quote(t.name()) + " is also in " + previous.file().getFileName());
                }
                if (index != null && !t.file().getFileName().toString().equals(index.get(t.name()))) {
                    throw new CheckpointFormatException(file, "tensor " + quote(t.name()) + " is in this file but " + INDEX
                            + (index.containsKey(t.name()) ? " places it in " + index.get(t.name()) : " does not list it"));
                }
            }
        }
        if (index != null) {
            for (Map.Entry<String, String> e : index.entrySet()) {
                if (!stored.containsKey(e.getKey())) {
                    throw new CheckpointFormatException(directory.resolve(e.getValue()), "tensor " + quote(e.getKey())
                            + " is missing, though " + INDEX + " places it in this file");
                }
            }
        }
        return stored;
    }

    /** The index's {@code weight_map}: tensor name to file name, each a plain file of the directory. */
    private static Map<String, String> weightMap(Path indexFile) throws IOException {
        JsonNode map = readJson(indexFile).get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointFormatException(indexFile, "no weight_map object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String file = e.getValue().asText("");
            if (!e.getValue().isTextual() || file.isEmpty() || file.contains("/") || file.contains("\\") || file.startsWith(".")) {
                throw new CheckpointFormatException(indexFile, "weight_map places " + quote(e.getKey()) + " in " + e.getValue()
                        + ", not a file name of this directory");
            }
            if (!Files.isRegularFile(indexFile.resolveSibling(file))) {
                throw new NoSuchFileException(indexFile.resolveSibling(file).toString(), null,
                        "listed in " + INDEX + " for " + e.getKey() + ", but missing");
            }
            out.put(e.getKey(), file);
        }
        return out;
    }

    private static MemorySegment map(Path file, Arena arena) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
    }

    /** The weights: every stored tensor but scales, FP8 ones joined with their scales. */
    private static Map<String, CheckpointTensor> weights(Path configFile, Map<String, SafetensorsTensor> stored,
            Fp8Scaling fp8) {
        Map<String, CheckpointTensor> weights = new LinkedHashMap<>();
        for (SafetensorsTensor t : stored.values()) {
            String name = t.name();
            if (name.endsWith(Fp8Scaling.SCALE_SUFFIX)) {
                String weight = name.substring(0, name.length() - Fp8Scaling.SCALE_SUFFIX.length());
                SafetensorsTensor values = stored.get(weight);
                if (values == null || values.dtype() != SafetensorsDtype.F8_E4M3) {
                    throw new CheckpointFormatException(t.file(), "tensor " + quote(name) + " scales "
                            + (values == null ? "a weight " + quote(weight) + " that is not in the checkpoint"
                                    : quote(weight) + ", which is " + values.dtype() + ", not F8_E4M3"));
                }
                continue;
            }
            if (name.endsWith(".activation_scale") || name.endsWith("_activation_scale")) {
                continue; // static activation scales: not weights (llama.cpp's converter drops them too)
            }
            if (t.dtype() == SafetensorsDtype.F8_E4M3) {
                if (fp8 == null) {
                    throw new CheckpointFormatException(t.file(), "tensor " + quote(name) + " is F8_E4M3, but " + configFile.getFileName()
                            + " declares no fp8 quantization_config");
                }
                SafetensorsTensor scales = stored.get(name + Fp8Scaling.SCALE_SUFFIX);
                if (scales == null) {
                    throw new CheckpointFormatException(t.file(), "tensor " + quote(name) + " is F8_E4M3 but has no "
                            + name + Fp8Scaling.SCALE_SUFFIX);
                }
                weights.put(name, CheckpointTensor.fp8(t, scales, fp8));
            } else {
                weights.put(name, new CheckpointTensor(t, null, null));
            }
        }
        return weights;
    }
}
