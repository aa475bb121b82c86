package io.ballast.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/**
 * The BOM lists every Ballast library artifact and nothing else: not the benchmarks or the
 * examples, which no application depends on. (That an application can import it and name modules
 * without versions is proven by this module's own pom, which does exactly that.)
 */
class BomTest {
  private static Element read(Path pom) throws Exception {
    var factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return factory.newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
  }

  private static List<String> texts(Element root, String tag) {
    var list = new ArrayList<String>();
    var nodes = root.getElementsByTagName(tag);
    for (int i = 0; i < nodes.getLength(); i++) {
      list.add(nodes.item(i).getTextContent().trim());
    }
    return list;
  }

  @Test
  void bom_listsExactlyTheModulesOfTheBuild() throws Exception {
    var root = Path.of("..").toAbsolutePath().normalize();
    var modules = texts(read(root.resolve("pom.xml")), "module");
    var expected =
        modules.stream()
            .filter(m -> !List.of("bom", "benchmarks", "examples").contains(m))
            .map(m -> "ballast-" + m)
            .toList();

    var bom = read(root.resolve("bom/pom.xml"));
    assertThat(bom.getElementsByTagName("parent").getLength())
        .as("the BOM must not inherit third-party versions")
        .isZero();
    var managed = bom.getElementsByTagName("dependencyManagement");
    assertThat(managed.getLength()).isEqualTo(1);
    var deps = ((Element) managed.item(0)).getElementsByTagName("dependency");
    var artifacts = new ArrayList<String>();
    for (int i = 0; i < deps.getLength(); i++) {
      var dep = (Element) deps.item(i);
      assertThat(texts(dep, "groupId")).containsExactly("io.ballast");
      assertThat(texts(dep, "version")).containsExactly("${project.version}");
      artifacts.addAll(texts(dep, "artifactId"));
    }
    assertThat(artifacts).containsExactlyInAnyOrderElementsOf(expected);
  }
}
