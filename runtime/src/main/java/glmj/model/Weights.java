package glmj.model;

import glmj.gguf.GGUFFormatException;
import glmj.gguf.TensorSource;
import glmj.gguf.TensorInfo;
import glmj.kernel.Weight;
import glmj.tensor.GGMLType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The glm-dsa tensors as kernel handles on the mapped file; only norm vectors and biases are read into arrays. */
final class Weights {
    final Weight tokenEmbd;
    final Weight output;
    final float[] outputNorm;
    final Layer[] layers;
    /** Every matrix, experts and heads as slices of their own. */
    private final List<Weight> matrices = new ArrayList<>();

    static final class Layer {
        float[] attnNorm, qANorm, kvANorm, ffnNorm;
        Weight qA, qB, kvAMqa, output;
        Weight[] kB, vB;
        Weight indexerQB, indexerK, indexerProj;
        float[] indexerKNorm, indexerKNormBias;
        /** The dense FFN of a leading layer, or the shared expert of a MoE layer. */
        Ffn ffn;
        Weight router;
        float[] expertBias;
        Weight[] expertGate, expertUp, expertDown;
    }

    /**
     * A SwiGLU FFN; {@code gateUp} holds gate and up when they are alike, for one matmul step, else it is null and
     * {@code upAlone} holds the up projection, for a step of its own.
     */
    record Ffn(Weight gate, Weight up, Weight down, Weight[] gateUp, Weight[] upAlone) {
        static Ffn of(Weight gate, Weight up, Weight down) {
            boolean alike = gate.type() == up.type() && gate.rows() == up.rows();
            return new Ffn(gate, up, down, alike ? new Weight[] {gate, up} : null, new Weight[] {up});
        }
    }

    /** Reads every tensor glm-dsa needs, each checked against its shape (a wrong one is a one-line error naming file and tensor). */
    Weights(TensorSource file, GlmDsaConfig c) {
        tokenEmbd = matrix(file, "token_embd.weight", c.vocabularySize(), c.embeddingLength());
        output = file.findTensor("output.weight").isPresent()
                ? matrix(file, "output.weight", c.vocabularySize(), c.embeddingLength()) : tokenEmbd;
        if (output != tokenEmbd) {
            matrices.remove(tokenEmbd); // only its rows are read, never multiplied
        }
        outputNorm = vector(file, "output_norm.weight", c.embeddingLength());
        layers = new Layer[c.layerCount()];
        for (int il = 0; il < layers.length; il++) {
            String b = "blk." + il + ".";
            Layer l = new Layer();
            l.attnNorm = vector(file, b + "attn_norm.weight", c.embeddingLength());
            l.qA = matrix(file, b + "attn_q_a.weight", c.qLoraRank(), c.embeddingLength());
            l.qANorm = vector(file, b + "attn_q_a_norm.weight", c.qLoraRank());
            l.qB = matrix(file, b + "attn_q_b.weight", c.headCount() * c.headKeyLength(), c.qLoraRank());
            l.kvAMqa = matrix(file, b + "attn_kv_a_mqa.weight", c.kvLoraRank() + c.ropeLength(), c.embeddingLength());
            l.kvANorm = vector(file, b + "attn_kv_a_norm.weight", c.kvLoraRank());
            l.kB = slices(file, b + "attn_k_b.weight", c.headCount(), c.kvLoraRank(), c.ropeFreeLength());
            l.vB = slices(file, b + "attn_v_b.weight", c.headCount(), c.headValueLength(), c.kvLoraRank());
            l.output = matrix(file, b + "attn_output.weight", c.embeddingLength(), c.headCount() * c.headValueLength());
            if (c.indexerFull()[il]) {
                int ih = c.indexerHeadCount(), id = c.indexerHeadLength();
                l.indexerQB = matrix(file, b + "indexer.attn_q_b.weight", ih * id, c.qLoraRank());
                l.indexerK = matrix(file, b + "indexer.attn_k.weight", id, c.embeddingLength());
                l.indexerProj = matrix(file, b + "indexer.proj.weight", ih, c.embeddingLength());
                l.indexerKNorm = vector(file, b + "indexer.k_norm.weight", id);
                l.indexerKNormBias = vector(file, b + "indexer.k_norm.bias", id);
            }
            l.ffnNorm = vector(file, b + "ffn_norm.weight", c.embeddingLength());
            if (c.isMoe(il)) {
                int ff = c.expertFeedForwardLength()[il];
                int shared = ff * c.sharedExpertCount();
                l.router = matrix(file, b + "ffn_gate_inp.weight", c.expertCount(), c.embeddingLength());
                l.expertBias = file.findTensor(b + "exp_probs_b.bias").map(t -> read(file, t, c.expertCount())).orElse(null);
                l.expertGate = slices(file, b + "ffn_gate_exps.weight", c.expertCount(), ff, c.embeddingLength());
                l.expertUp = slices(file, b + "ffn_up_exps.weight", c.expertCount(), ff, c.embeddingLength());
                l.expertDown = slices(file, b + "ffn_down_exps.weight", c.expertCount(), c.embeddingLength(), ff);
                l.ffn = Ffn.of(matrix(file, b + "ffn_gate_shexp.weight", shared, c.embeddingLength()),
                        matrix(file, b + "ffn_up_shexp.weight", shared, c.embeddingLength()),
                        matrix(file, b + "ffn_down_shexp.weight", c.embeddingLength(), shared));
            } else {
                int ff = c.feedForwardLength()[il];
                l.ffn = Ffn.of(matrix(file, b + "ffn_gate.weight", ff, c.embeddingLength()),
                        matrix(file, b + "ffn_up.weight", ff, c.embeddingLength()),
                        matrix(file, b + "ffn_down.weight", c.embeddingLength(), ff));
            }
            layers[il] = l;
        }
    }

    /** The matrices, for checking that the kernels multiply every one. */
    List<Weight> matrices() {
        return matrices;
    }

    private Weight matrix(TensorSource file, String name, int rows, int cols) {
        TensorInfo t = file.tensor(name);
        if (t.dimensionCount() != 2 || t.rowLength() != cols || t.rowCount() != rows) {
            throw wrongShape(file, t, "[" + cols + ", " + rows + "]");
        }
        Weight weight = Weight.of(t);
        matrices.add(weight);
        return weight;
    }

    /** The {@code count} matrices of a 3-d tensor (experts, heads), each a weight named by its index. */
    private Weight[] slices(TensorSource file, String name, int count, int rows, int cols) {
        TensorInfo t = file.tensor(name);
        if (t.dimensionCount() != 3 || t.dim(0) != cols || t.dim(1) != rows || t.dim(2) != count) {
            throw wrongShape(file, t, "[" + cols + ", " + rows + ", " + count + "]");
        }
        Weight[] out = new Weight[count];
        for (int i = 0; i < count; i++) {
            out[i] = Weight.of(file.slice(t, i));
            matrices.add(out[i]);
        }
        return out;
    }

    private static GGUFFormatException wrongShape(TensorSource file, TensorInfo t, String expected) {
        return new GGUFFormatException(file.path(), "tensor " + t.name() + " has shape " + Arrays.toString(t.shape())
                + ", glm-dsa needs " + expected);
    }

    private static float[] vector(TensorSource file, String name, int length) {
        return read(file, file.tensor(name), length);
    }

    private static float[] read(TensorSource file, TensorInfo t, int length) {
        file.load(List.of(t));
        if (t.elementCount() != length) {
            throw new GGUFFormatException(t.shard(), "tensor " + t.name() + " has " + t.elementCount() + " values, glm-dsa needs " + length);
        }
        if (t.type() != GGMLType.F32) {
            throw new GGUFFormatException(t.shard(), "tensor " + t.name() + " is " + t.type().ggmlName + ", glm-dsa needs f32 for a norm or bias vector");
        }
        return t.type().dequantizeAll(t.data(), length);
    }
}
